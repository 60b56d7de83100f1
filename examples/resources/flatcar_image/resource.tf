# The current stable Flatcar, verified and uploaded once; Jetstream2 wants SCSI disks.
data "flatcar_release" "stable" {
  channel = "stable"
}

resource "flatcar_image" "stable" {
  name    = "flatcar-stable-${data.flatcar_release.stable.version}"
  channel = "stable"
  version = data.flatcar_release.stable.version

  properties = {
    hw_disk_bus        = "scsi"
    hw_scsi_model      = "virtio-scsi"
    os_require_quiesce = "yes"
  }

  timeouts {
    create = "30m"
  }
}
