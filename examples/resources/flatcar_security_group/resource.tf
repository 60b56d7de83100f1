# The group of a cluster's nodes: everything between members, SSH and the Kubernetes API
# from the team's network, ping. Egress stays open (allow_all_egress defaults to true).
resource "flatcar_security_group" "cluster" {
  name        = "k8s-demo"
  description = "Kubernetes nodes of k8s-demo"

  rule {
    self = true
  }
  rule {
    protocol         = "tcp"
    port_range_min   = 22
    port_range_max   = 22
    remote_ip_prefix = "203.0.113.0/24"
  }
  rule {
    protocol         = "tcp"
    port_range_min   = 6443
    port_range_max   = 6443
    remote_ip_prefix = "203.0.113.0/24"
  }
  rule {
    protocol = "icmp"
  }
}

resource "flatcar_instance" "node" {
  name            = "k8s-demo-node-1"
  image_id        = flatcar_image.stable.id
  flavor_name     = "m3.quad"
  key_pair        = "k8s-demo"
  security_groups = [flatcar_security_group.cluster.id]
  network {
    name = "auto_allocated_network"
  }
}
