# Jetstream2: source an openrc with application credentials (OS_AUTH_URL,
# OS_APPLICATION_CREDENTIAL_ID, OS_APPLICATION_CREDENTIAL_SECRET) and leave the block empty,
# or name a clouds.yaml entry.
provider "flatcar" {
  cloud = "openstack"

  # A mirror of the Flatcar release server; {channel} is replaced by the channel name.
  # release_base_url = "https://mirror.example.org/flatcar/{channel}"
}
