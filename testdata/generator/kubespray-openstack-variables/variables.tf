# Our own transcription of the variable declarations of Kubespray's
# contrib/terraform/openstack/variables.tf (Kubespray master, 2026-08): every name, with its
# default. Where the original declares no type, the type written here is the one the module's
# code needs (counts and sizes are numbers, `k8s_masters`/`k8s_nodes` maps of objects, ...), so
# `terraform plan -var-file=cluster.tfvars` on this directory checks both names and types.
# No resources and no providers: the plan only evaluates variables.

variable "cluster_name" {
  type    = string
  default = "example"
}

variable "az_list" {
  type    = list(string)
  default = ["nova"]
}

variable "az_list_node" {
  type    = list(string)
  default = ["nova"]
}

variable "number_of_bastions" {
  type    = number
  default = 1
}

variable "number_of_k8s_masters" {
  type    = number
  default = 2
}

variable "number_of_k8s_masters_no_etcd" {
  type    = number
  default = 2
}

variable "number_of_etcd" {
  type    = number
  default = 2
}

variable "number_of_k8s_masters_no_floating_ip" {
  type    = number
  default = 2
}

variable "number_of_k8s_masters_no_floating_ip_no_etcd" {
  type    = number
  default = 2
}

variable "number_of_k8s_nodes" {
  type    = number
  default = 1
}

variable "number_of_k8s_nodes_no_floating_ip" {
  type    = number
  default = 1
}

variable "number_of_gfs_nodes_no_floating_ip" {
  type    = number
  default = 0
}

variable "bastion_root_volume_size_in_gb" {
  type    = number
  default = 0
}

variable "etcd_root_volume_size_in_gb" {
  type    = number
  default = 0
}

variable "master_root_volume_size_in_gb" {
  type    = number
  default = 0
}

variable "node_root_volume_size_in_gb" {
  type    = number
  default = 0
}

variable "gfs_root_volume_size_in_gb" {
  type    = number
  default = 0
}

variable "gfs_volume_size_in_gb" {
  type    = number
  default = 75
}

variable "master_volume_type" {
  type    = string
  default = "Default"
}

variable "node_volume_type" {
  type    = string
  default = "Default"
}

variable "public_key_path" {
  type    = string
  default = "~/.ssh/id_rsa.pub"
}

variable "image" {
  type    = string
  default = ""
}

variable "image_gfs" {
  type    = string
  default = ""
}

variable "ssh_user" {
  type    = string
  default = "ubuntu"
}

variable "ssh_user_gfs" {
  type    = string
  default = "ubuntu"
}

# Flavors are passed to the instances' flavor_id.
variable "flavor_bastion" {
  type    = string
  default = 3
}

variable "flavor_k8s_master" {
  type    = string
  default = 3
}

variable "flavor_k8s_node" {
  type    = string
  default = 3
}

variable "flavor_etcd" {
  type    = string
  default = 3
}

variable "flavor_gfs_node" {
  type    = string
  default = 3
}

variable "network_name" {
  type    = string
  default = "internal"
}

variable "use_existing_network" {
  type    = bool
  default = false
}

variable "network_dns_domain" {
  type    = string
  default = null
}

# Used as a resource count for the network, subnet and router interface.
variable "use_neutron" {
  type    = number
  default = 1
}

variable "port_security_enabled" {
  type    = bool
  default = true
}

variable "force_null_port_security" {
  type    = bool
  default = false
}

variable "subnet_cidr" {
  type    = string
  default = "10.0.0.0/24"
}

variable "dns_nameservers" {
  type    = list(string)
  default = []
}

variable "k8s_master_fips" {
  type    = list(string)
  default = []
}

variable "bastion_fips" {
  type    = list(string)
  default = []
}

variable "floatingip_pool" {
  type    = string
  default = "external"
}

variable "wait_for_floatingip" {
  type    = bool
  default = false
}

# No default: every cluster.tfvars must set it.
variable "external_net" {
  type = string
}

variable "supplementary_master_groups" {
  type    = string
  default = ""
}

variable "supplementary_node_groups" {
  type    = string
  default = ""
}

variable "bastion_allowed_remote_ips" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

variable "bastion_allowed_remote_ipv6_ips" {
  type    = list(string)
  default = ["::/0"]
}

variable "master_allowed_remote_ips" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

variable "master_allowed_remote_ipv6_ips" {
  type    = list(string)
  default = ["::/0"]
}

variable "k8s_allowed_remote_ips" {
  type    = list(string)
  default = []
}

variable "k8s_allowed_remote_ips_ipv6" {
  type    = list(string)
  default = []
}

variable "k8s_allowed_egress_ips" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

variable "k8s_allowed_egress_ipv6_ips" {
  type    = list(string)
  default = ["::/0"]
}

variable "master_allowed_ports" {
  type    = list(any)
  default = []
}

variable "master_allowed_ports_ipv6" {
  type = list(any)
  default = [
    { protocol = "ipv6-icmp", port_range_min = 0, port_range_max = 0, remote_ip_prefix = "::/0" },
  ]
}

variable "worker_allowed_ports" {
  type = list(any)
  default = [
    { protocol = "tcp", port_range_min = 30000, port_range_max = 32767, remote_ip_prefix = "0.0.0.0/0" },
  ]
}

variable "worker_allowed_ports_ipv6" {
  type = list(any)
  default = [
    { protocol = "tcp", port_range_min = 30000, port_range_max = 32767, remote_ip_prefix = "::/0" },
    { protocol = "ipv6-icmp", port_range_min = 0, port_range_max = 0, remote_ip_prefix = "::/0" },
  ]
}

variable "bastion_allowed_ports" {
  type    = list(any)
  default = []
}

variable "bastion_allowed_ports_ipv6" {
  type    = list(any)
  default = []
}

variable "use_access_ip" {
  type    = number
  default = 1
}

variable "master_server_group_policy" {
  type    = string
  default = ""
}

variable "node_server_group_policy" {
  type    = string
  default = ""
}

variable "etcd_server_group_policy" {
  type    = string
  default = ""
}

variable "router_id" {
  type    = string
  default = null
}

variable "router_internal_port_id" {
  type    = string
  default = null
}

# README: `az`, `flavor`, `floating_ip` and `etcd` are mandatory for each master.
variable "k8s_masters" {
  type = map(object({
    az          = string
    flavor      = string
    floating_ip = bool
    etcd        = bool
  }))
  default = {}
}

# README: `az`, `flavor` and `floating_ip` are mandatory; the rest is optional.
variable "k8s_nodes" {
  type = map(object({
    az                       = string
    flavor                   = string
    floating_ip              = bool
    extra_groups             = optional(string)
    image_id                 = optional(string)
    root_volume_size_in_gb   = optional(number)
    volume_type              = optional(string)
    network_id               = optional(string)
    additional_server_groups = optional(list(string))
    server_group             = optional(string)
    cloudinit                = optional(any)
  }))
  default = {}
}

variable "additional_server_groups" {
  type = map(object({
    policy = string
  }))
  default = {}
}

variable "extra_sec_groups" {
  type    = bool
  default = false
}

variable "extra_sec_groups_name" {
  type    = string
  default = "custom"
}

variable "image_uuid" {
  type    = string
  default = ""
}

variable "image_gfs_uuid" {
  type    = string
  default = ""
}

variable "image_master" {
  type    = string
  default = ""
}

variable "image_master_uuid" {
  type    = string
  default = ""
}

variable "group_vars_path" {
  type    = string
  default = "./group_vars"
}

variable "k8s_master_loadbalancer_enabled" {
  type    = bool
  default = false
}

variable "k8s_master_loadbalancer_listener_port" {
  type    = string
  default = "6443"
}

variable "k8s_master_loadbalancer_server_port" {
  type    = string
  default = 6443
}

variable "k8s_master_loadbalancer_public_ip" {
  type    = string
  default = ""
}
