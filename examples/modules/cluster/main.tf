# A Flatcar Container Linux Kubernetes cluster for Kubespray: one verified Flatcar image in
# Glance and the machines of every pool, named <cluster>-<pool>-<n>, carrying the
# kubespray_groups / ssh_user metadata. The output kubespray_inventory is what
# `flatcar-kube inventory` turns into Kubespray's hosts.yaml.

locals {
  # The rule of flatcar-kube's profile::machines::image_name.
  image_name = coalesce(
    var.image_name,
    var.image_arch == "amd64" ? "flatcar-${var.image_channel}-${var.image_version}" : "flatcar-${var.image_channel}-${var.image_version}-${var.image_arch}",
  )

  # One entry per machine: "<cluster>-<pool>-<n>" => pool settings.
  nodes = merge([
    for pool_name, pool in var.pools : {
      for i in range(1, pool.count + 1) : "${var.cluster_name}-${pool_name}-${i}" => merge(pool, { pool = pool_name })
    }
  ]...)

  # The caller's Ignition and Butane (translated by the provider), merged into every machine's.
  merged = concat(
    var.user_data == null ? [] : [var.user_data],
    var.butane == null ? [] : [provider::flatcar::butane(var.butane)],
  )

  # Ignition 3.3.0 (what Butane's flatcar 1.0.0 variant writes; every supported Flatcar boots
  # it): core's SSH keys, and the caller's config merged in.
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
  ))
}

resource "flatcar_image" "this" {
  name        = local.image_name
  channel     = var.image_channel
  version     = var.image_version
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

resource "flatcar_instance" "node" {
  for_each = local.nodes

  name        = each.key
  image_id    = flatcar_image.this.id
  flavor_name = each.value.flavor_name
  flavor_id   = each.value.flavor_id
  key_pair    = var.key_pair
  # With ignition_write_only, Nova gets the Ignition but plan and state never hold it.
  user_data            = var.ignition_write_only ? null : local.ignition
  user_data_wo         = var.ignition_write_only ? local.ignition : null
  user_data_wo_version = var.ignition_write_only ? var.ignition_version : null
  security_groups = distinct(concat(
    [flatcar_security_group.cluster.id],
    var.extra_security_groups,
    var.security_groups == null ? [] : var.security_groups,
  ))
  availability_zone = var.availability_zone
  root_volume_size  = each.value.root_volume_size
  floating_ip_pool  = each.value.floating_ip ? var.floating_ip_pool : null

  network {
    name = var.network_name
    uuid = var.network_id
  }

  metadata = merge(var.metadata, {
    cluster          = var.cluster_name
    kubespray_groups = join(",", each.value.groups)
    ssh_user         = "core"
  })

  timeouts {
    create = var.create_timeout
  }

  # A machine keeps the image and Ignition it was built with: a newer Flatcar version, another
  # SSH key or more user data reach new machines only, never rebuild running ones (Flatcar
  # updates itself in place). Rebuild one on purpose with `terraform apply -replace=...`.
  lifecycle {
    ignore_changes = [image_id, user_data, user_data_wo, user_data_wo_version]
  }
}
