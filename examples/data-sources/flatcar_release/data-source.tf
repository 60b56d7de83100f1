# The current stable release, resolved to its exact version and verified with the
# Flatcar image signing key built into the provider.
data "flatcar_release" "stable" {
  channel = "stable"
}

output "flatcar_version" {
  value = data.flatcar_release.stable.version
}

output "flatcar_image_sha512" {
  value = data.flatcar_release.stable.sha512
}
