# The cluster's API address, reserved once: the first control plane takes it, and so does any
# server that replaces it, so the kubeconfig and the DNS name keep working.
resource "flatcar_floating_ip" "api" {
  pool        = "public"
  description = "Kubernetes API of k8s-demo"
  tags        = ["k8s-demo"]
}

resource "flatcar_instance" "control_plane" {
  name           = "k8s-demo-control-plane-1"
  image_id       = flatcar_image.stable.id
  flavor_name    = "m3.medium"
  floating_ip_id = flatcar_floating_ip.api.id
  network {
    name = "auto_allocated_network"
  }
}
