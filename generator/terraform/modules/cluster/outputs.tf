output "kubespray_inventory" {
  description = "Hosts for `terraform output -json | flatcar-kube inventory`: {hosts = {NAME = {groups, ip, ansible_host, access_ip, ansible_user}}}. ansible_host is the floating IP where there is one; access_ip stays null, so the machines talk over their private addresses, which the cluster's security group admits (Kubespray's use_access_ip = 0)."
  value = {
    hosts = {
      for name, n in flatcar_instance.node : name => {
        groups       = var.machines[name].groups
        ip           = try(coalesce(n.network[0].fixed_ip_v4, n.access_ip_v4), "")
        ansible_host = n.floating_ip
        access_ip    = null
        ansible_user = "core"
      }
    }
    # DNS names of the API, for its certificate (supplementary_addresses_in_ssl_keys).
    api_names = [for role, r in flatcar_dns_record.name : r.fqdn if role == "api"]
  }
}

output "nodes" {
  description = "Every machine by name: its server ID, private IP, floating IP (or null) and Nova's addresses per network."
  value = {
    for name, n in flatcar_instance.node : name => {
      id          = n.id
      ip          = n.network[0].fixed_ip_v4
      floating_ip = n.floating_ip
      addresses   = n.addresses
    }
  }
}

output "image_id" {
  description = "Glance ID of the current Flatcar image (what new machines boot)."
  value       = flatcar_image.release[var.image].id
}

output "image_version" {
  description = "The exact Flatcar version of the current image."
  value       = flatcar_image.release[var.image].resolved_version
}

output "machine_images" {
  description = "The image each machine was built from, name => key of images (from its flatcar_release metadata): pass it as machine_images on the next apply, with those keys' releases in images, so running machines keep their images."
  value       = { for name, n in flatcar_instance.node : name => n.metadata["flatcar_release"] }
}

output "images" {
  description = "Every Flatcar image the cluster keeps in Glance, release => {id, version}."
  value       = { for release, i in flatcar_image.release : release => { id = i.id, version = i.resolved_version } }
}

output "releases" {
  description = "Every image the cluster keeps, key => {channel, version} as given in images (version may be \"current\"): with machine_images, what the next apply needs in images to keep the images in use."
  value       = { for key, r in local.releases : key => { channel = r.channel, version = r.version } }
}

output "api_address" {
  description = "api_machine's floating IP (the reserved one with reserved_address), or null."
  value       = local.reserve ? flatcar_floating_ip.api[0].address : try(flatcar_instance.node[var.api_machine].floating_ip, null)
}

output "dns_names" {
  description = "The DNS records made in dns_zone, role (api, ingress) => absolute name."
  value       = { for role, r in flatcar_dns_record.name : role => r.fqdn }
}
