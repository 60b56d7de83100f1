# The hub's name in the allocation's zone, pointing at the reserved address.
resource "flatcar_dns_record" "hub" {
  zone    = "myalloc.projects.jetstream-cloud.org."
  name    = "hub.myalloc.projects.jetstream-cloud.org."
  records = [flatcar_floating_ip.api.address]
  ttl     = 300
}
