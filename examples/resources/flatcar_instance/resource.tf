# One Flatcar node on Jetstream2: log in as `core` with the key pair.
resource "flatcar_instance" "node" {
  name        = "k8s-control-plane-1"
  image_id    = flatcar_image.stable.id
  flavor_name = "m3.medium"
  key_pair    = "my-key"

  # Ignition (from butane); a cloud-config is rejected at plan time.
  user_data = jsonencode({
    ignition = { version = "3.4.0" }
    storage = {
      files = [{ path = "/etc/hostname", contents = { source = "data:,k8s-control-plane-1" } }]
    }
  })

  network {
    name = "auto_allocated_network"
  }
  security_groups  = ["default", "k8s"]
  floating_ip_pool = "public"

  metadata = {
    kubespray_groups = "kube_control_plane,etcd"
  }
}
