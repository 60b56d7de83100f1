# A Flatcar Container Linux Kubernetes cluster for Kubespray: verified Flatcar images in
# Glance and the machines the caller names, carrying the kubespray_groups / ssh_user metadata.
# The output kubespray_inventory is what `flatcar-kube inventory` turns into Kubespray's
# hosts.yaml. The module derives no name: machine and image names come in as they are
# (flatcar-kube computes them in one place, generator/src/profile/machines.rs).
#
# Day 2: a machine keeps the release and Ignition it was built with. A newer image adds an
# image for new machines; the old image stays while a machine listed in machine_images uses it
# (the outputs machine_images and releases say which: feed them back, as `flatcar-kube up` does).

locals {
  # The API address (reserved or not) and the DNS records are var.api_machine's.
  reserve = var.reserved_address && var.api_machine != null
  dns_names = var.dns_zone == null ? {} : {
    for role, name in { api = var.api_name, ingress = var.ingress_name } : role => name if name != null
  }

  # The image of each machine, a key of var.images: what it was built from
  # (var.machine_images), else the one new machines boot.
  machine_release = {
    for name in keys(var.machines) : name => lookup(var.machine_images, name, var.image)
  }

  # Every image a machine uses, plus the one new machines boot: each stays in Glance.
  releases = { for key in toset(concat([var.image], values(local.machine_release))) : key => var.images[key] }

  # The caller's Ignition and Butane (translated by the provider), merged into every machine's.
  merged = concat(
    var.user_data == null ? [] : [var.user_data],
    var.butane == null ? [] : [provider::flatcar::butane(var.butane)],
  )

  # Flatcar's own update settings: update_engine follows the image's channel and downloads
  # updates; with reboot_strategy "off" the node never reboots by itself (locksmithd masked):
  # the cluster's reboot coordinator drains and reboots one node at a time.
  update_conf = "GROUP=${var.images[var.image].channel}\nREBOOT_STRATEGY=${var.reboot_strategy}\n"

  # Ignition 3.3.0 (what Butane's flatcar 1.0.0 variant writes; every supported Flatcar boots
  # it): update settings, core's SSH keys, and the caller's config merged in.
  ignition = jsonencode(merge(
    {
      ignition = merge(
        { version = "3.3.0" },
        length(local.merged) == 0 ? null : {
          config = { merge = [for c in local.merged : { source = "data:;base64,${base64encode(c)}" }] }
        },
      )
    },
    length(var.ssh_public_keys) == 0 ? null : {
      passwd = { users = [{ name = "core", sshAuthorizedKeys = [for k in var.ssh_public_keys : trimspace(k)] }] }
    },
    {
      storage = {
        files = [{
          path      = "/etc/flatcar/update.conf"
          mode      = 420
          overwrite = true
          contents  = { source = "data:,${urlencode(local.update_conf)}" }
        }]
      }
    },
    var.reboot_strategy != "off" ? null : {
      systemd = { units = [{ name = "locksmithd.service", mask = true }] }
    },
  ))
}

# One image per release in use, named as var.images says (a new name renames it in place).
resource "flatcar_image" "release" {
  for_each = local.releases

  name        = each.value.name
  channel     = each.value.channel
  version     = each.value.version
  arch        = var.image_arch
  compression = var.image_compression
  base_url    = var.image_base_url
  properties  = var.image_properties
}

# The cluster's own group: everything between its machines, SSH and the Kubernetes API from
# allowed_cidrs, ping from IPv4 allowed_cidrs, optionally HTTP(S) from everyone. Its rules are
# managed exclusively: a rule changed outside Terraform is put back by the next apply.
resource "flatcar_security_group" "cluster" {
  name        = "${var.cluster_name}-nodes"
  description = "Kubernetes nodes of ${var.cluster_name} (flatcar-kube)"

  rule {
    self = true
  }
  rule {
    self      = true
    ethertype = "IPv6"
  }
  dynamic "rule" {
    for_each = setproduct(var.allowed_cidrs, [22, 6443])
    content {
      protocol         = "tcp"
      port_range_min   = rule.value[1]
      port_range_max   = rule.value[1]
      remote_ip_prefix = rule.value[0]
      ethertype        = strcontains(rule.value[0], ":") ? "IPv6" : "IPv4"
    }
  }
  dynamic "rule" {
    for_each = [for c in var.allowed_cidrs : c if !strcontains(c, ":")]
    content {
      protocol         = "icmp"
      remote_ip_prefix = rule.value
    }
  }
  dynamic "rule" {
    for_each = var.open_http ? setproduct(["0.0.0.0/0", "::/0"], [80, 443]) : []
    content {
      protocol         = "tcp"
      port_range_min   = rule.value[1]
      port_range_max   = rule.value[1]
      remote_ip_prefix = rule.value[0]
      ethertype        = strcontains(rule.value[0], ":") ? "IPv6" : "IPv4"
    }
  }
}

# HTTP and HTTPS from everyone, for var.http_machines only (where the cluster's apps are
# served), so no other machine of the cluster is reachable on 80 or 443.
resource "flatcar_security_group" "http" {
  count = length(var.http_machines) > 0 ? 1 : 0

  name        = "${var.cluster_name}-http"
  description = "HTTP and HTTPS to ${join(", ", var.http_machines)} (flatcar-kube)"

  dynamic "rule" {
    for_each = setproduct(["0.0.0.0/0", "::/0"], [80, 443])
    content {
      protocol         = "tcp"
      port_range_min   = rule.value[1]
      port_range_max   = rule.value[1]
      remote_ip_prefix = rule.value[0]
      ethertype        = strcontains(rule.value[0], ":") ? "IPv6" : "IPv4"
    }
  }
}

# The API address, reserved: it outlives the first control plane's server (a replacement
# takes it over), so the kubeconfig, the certificate and the DNS records stay right.
resource "flatcar_floating_ip" "api" {
  count = local.reserve ? 1 : 0

  pool        = var.floating_ip_pool
  description = "Kubernetes API of ${var.cluster_name} (flatcar-kube)"
  tags        = [var.cluster_name]
}

resource "flatcar_instance" "node" {
  for_each = var.machines

  name        = each.key
  image_id    = flatcar_image.release[local.machine_release[each.key]].id
  flavor_name = each.value.flavor_name
  flavor_id   = each.value.flavor_id
  key_pair    = var.key_pair
  # With ignition_write_only, Nova gets the Ignition but plan and state never hold it.
  user_data            = var.ignition_write_only ? null : local.ignition
  user_data_wo         = var.ignition_write_only ? local.ignition : null
  user_data_wo_version = var.ignition_write_only ? var.ignition_version : null
  security_groups = distinct(concat(
    [flatcar_security_group.cluster.id],
    contains(var.http_machines, each.key) ? flatcar_security_group.http[*].id : [],
    var.extra_security_groups,
    var.security_groups == null ? [] : var.security_groups,
  ))
  availability_zone = var.availability_zone
  root_volume_size  = each.value.root_volume_size
  floating_ip_pool  = each.value.floating_ip && !(local.reserve && each.key == var.api_machine) ? var.floating_ip_pool : null
  floating_ip_id    = local.reserve && each.key == var.api_machine ? flatcar_floating_ip.api[0].id : null

  network {
    name = var.network_name
    uuid = var.network_id
  }

  metadata = merge(var.metadata, {
    cluster          = var.cluster_name
    kubespray_groups = join(",", each.value.groups)
    ssh_user         = "core"
    # The release the machine was built from; the output machine_images reads it back.
    flatcar_release = local.machine_release[each.key]
  })

  timeouts {
    create = var.create_timeout
  }

  # A machine keeps the image and Ignition it was built with: a newer Flatcar version, another
  # SSH key or more user data reach new machines only, never rebuild running ones (Flatcar
  # updates itself in place). Rebuild one on purpose with `terraform apply -replace=...`.
  lifecycle {
    ignore_changes = [image_id, user_data, user_data_wo, user_data_wo_version, metadata["flatcar_release"]]
  }
}

# DNS names in the project's zone, both at var.api_machine's address (where the API and, with
# apps, 80/443 are served).
resource "flatcar_dns_record" "name" {
  for_each = local.dns_names

  zone        = var.dns_zone
  name        = each.value
  records     = [local.reserve ? flatcar_floating_ip.api[0].address : flatcar_instance.node[var.api_machine].floating_ip]
  ttl         = 300
  description = "${each.key} of ${var.cluster_name} (flatcar-kube)"
}
