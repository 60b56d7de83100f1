# Kubernetes-ready Flatcar machines on Jetstream2 (https://jetstream-cloud.org/).
# Credentials: `source app-cred-NAME-openrc.sh` (an application credential's OS_* variables);
# the provider block stays empty. See README.md.

terraform {
  required_version = ">= 1.9"

  required_providers {
    flatcar = {
      source  = "registry.terraform.io/flatcar-kube/flatcar"
      version = ">= 0.1.0"
    }
  }
}

provider "flatcar" {}

variable "cluster_name" {
  description = "Prefix of every machine name: <cluster>-control-plane-1, <cluster>-worker-1, ..."
  type        = string
  default     = "demo"
}

variable "ssh_public_key_file" {
  description = "Public key installed for user core (Ansible logs in with its private half)."
  type        = string
  default     = "~/.ssh/id_ed25519.pub"
}

variable "flatcar_version" {
  description = "\"current\" or an exact Flatcar stable release such as 4230.2.1."
  type        = string
  default     = "current"
}

variable "control_plane_count" {
  description = "Control plane machines (etcd runs on them): 1, or 3 for high availability."
  type        = number
  default     = 1
}

variable "worker_count" {
  description = "Worker machines."
  type        = number
  default     = 2
}

variable "allowed_cidrs" {
  description = "Who may reach SSH (22) and the Kubernetes API (6443). Everyone by default: narrow it to your address, e.g. -var 'allowed_cidrs=[\"203.0.113.7/32\"]' (curl -s https://ifconfig.me shows it)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "open_http" {
  description = "Also open HTTP and HTTPS (80, 443) to everyone, for an ingress controller."
  type        = bool
  default     = false
}

locals {
  # The names flatcar-kube would give: <cluster>-<pool>-<n>, n from 1.
  control_planes = {
    for i in range(1, var.control_plane_count + 1) : "${var.cluster_name}-control-plane-${i}" => {
      flavor_name = "m3.quad" # 4 vCPU, 15 GB
      groups      = ["kube_control_plane", "etcd"]
      floating_ip = true
    }
  }
  workers = {
    for i in range(1, var.worker_count + 1) : "${var.cluster_name}-worker-${i}" => {
      flavor_name = "m3.medium" # 8 vCPU, 30 GB
      groups      = ["kube_node"]
      floating_ip = true
    }
  }
  release = "stable-${var.flatcar_version}"
}

module "cluster" {
  source = "../../generator/terraform/modules/cluster"

  cluster_name = var.cluster_name
  image        = local.release
  images = {
    (local.release) = { name = "flatcar-${local.release}", channel = "stable", version = var.flatcar_version }
  }
  # Jetstream2 boots images from SCSI disks.
  image_properties = {
    hw_disk_bus        = "scsi"
    hw_scsi_model      = "virtio-scsi"
    os_require_quiesce = "yes"
  }

  machines    = merge(local.control_planes, local.workers)
  api_machine = "${var.cluster_name}-control-plane-1"

  # Every Jetstream2 allocation has this network and its router already.
  network_name     = "auto_allocated_network"
  floating_ip_pool = "public"
  ssh_public_keys  = [file(pathexpand(var.ssh_public_key_file))]

  # The cluster's own security group: members to members, SSH and the API from allowed_cidrs.
  allowed_cidrs = var.allowed_cidrs
  open_http     = var.open_http
}

output "kubespray_inventory" {
  description = "For `terraform output -json | flatcar-kube inventory`."
  value       = module.cluster.kubespray_inventory
}

output "nodes" {
  description = "Every machine's IDs and addresses."
  value       = module.cluster.nodes
}

output "image_id" {
  value = module.cluster.image_id
}
