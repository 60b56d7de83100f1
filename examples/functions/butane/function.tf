# A node's Ignition written as Butane: a file, a systemd unit and core's SSH key.
resource "flatcar_instance" "node" {
  name        = "k8s-demo-node-1"
  image_id    = flatcar_image.stable.id
  flavor_name = "m3.quad"
  network {
    name = "auto_allocated_network"
  }

  user_data = provider::flatcar::butane(<<-EOT
    variant: flatcar
    version: 1.0.0
    passwd:
      users:
        - name: core
          ssh_authorized_keys:
            - ${trimspace(file("~/.ssh/id_ed25519.pub"))}
    storage:
      files:
        - path: /etc/hostname
          mode: 0644
          contents:
            inline: k8s-demo-node-1
    systemd:
      units:
        - name: hello.service
          enabled: true
          contents: |
            [Unit]
            Description=Say hello
            [Service]
            Type=oneshot
            ExecStart=/usr/bin/echo hello
            [Install]
            WantedBy=multi-user.target
  EOT
  )
}
