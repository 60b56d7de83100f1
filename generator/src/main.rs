//! flatcar-kube: profile -> Kubespray files; Terraform output/state -> inventory.
fn main() {}
