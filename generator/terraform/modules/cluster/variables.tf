variable "cluster_name" {
  description = "Cluster name: a DNS label, in the names of the cluster's security groups and in every machine's metadata (cluster)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", var.cluster_name))
    error_message = "cluster_name must be a DNS label of at most 40 characters: lowercase letters, digits and '-', not starting or ending with '-'."
  }
}

variable "images" {
  description = <<-EOT
    The Flatcar images the cluster keeps in Glance, by key (any string: flatcar-kube writes
    "<channel>-<version>"): name (the Glance name, as given), channel (stable, beta, alpha or
    lts) and version ("current", the current release when the image is created, or an exact
    version such as 4230.2.1). A machine records the key of its image (output machine_images).
  EOT
  type = map(object({
    name    = string
    channel = string
    version = string
  }))

  validation {
    condition     = alltrue([for i in values(var.images) : contains(["stable", "beta", "alpha", "lts"], i.channel)])
    error_message = "Each image's channel must be one of stable, beta, alpha, lts."
  }
  validation {
    condition     = alltrue([for i in values(var.images) : i.version == "current" || can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", i.version))])
    error_message = "Each image's version must be \"current\" or an exact version such as 4230.2.1."
  }
  validation {
    condition     = length(distinct([for i in values(var.images) : i.name])) == length(var.images)
    error_message = "Each image needs a Glance name of its own."
  }
}

variable "image" {
  description = "The key in images of the image new machines boot."
  type        = string

  validation {
    condition     = contains(keys(var.images), var.image)
    error_message = "image must be a key of images."
  }
}

variable "image_arch" {
  description = "CPU architecture of the image: amd64 or arm64."
  type        = string
  default     = "amd64"

  validation {
    condition     = contains(["amd64", "arm64"], var.image_arch)
    error_message = "image_arch must be amd64 or arm64."
  }
}

variable "image_compression" {
  description = "Which release file is downloaded: none (the .img, already a compressed qcow2), gz or bz2. Glance always receives the uncompressed qcow2."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "gz", "bz2"], var.image_compression)
    error_message = "image_compression must be none, gz or bz2."
  }
}

variable "image_properties" {
  description = "Extra Glance image properties, e.g. Jetstream2's { hw_disk_bus = \"scsi\", hw_scsi_model = \"virtio-scsi\", os_require_quiesce = \"yes\" }."
  type        = map(string)
  default     = {}
}

variable "image_base_url" {
  description = "Flatcar release server or mirror for this image ({channel} is replaced by the channel); null uses the provider's release_base_url."
  type        = string
  default     = null
}

variable "machines" {
  description = <<-EOT
    Every machine by its server name (a DNS label; flatcar-kube writes <cluster>-<pool>-<n>).
    groups: Kubespray groups of the machine (kube_control_plane, kube_node, etcd, bastion).
    flavor_name or flavor_id: the Nova flavor. floating_ip: a floating IP from
    var.floating_ip_pool. root_volume_size: boot from a volume of that many GB (needs Cinder).
  EOT
  type = map(object({
    groups           = list(string)
    flavor_name      = optional(string)
    flavor_id        = optional(string)
    floating_ip      = optional(bool, false)
    root_volume_size = optional(number)
  }))

  validation {
    condition     = alltrue([for name, m in var.machines : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name))])
    error_message = "Machine names must be DNS labels (lowercase letters, digits and '-'): they are the servers' host names."
  }
  validation {
    condition     = alltrue([for m in var.machines : (m.flavor_name == null) != (m.flavor_id == null)])
    error_message = "Each machine needs exactly one of flavor_name and flavor_id."
  }
  validation {
    condition     = alltrue(flatten([for m in var.machines : [for g in m.groups : can(regex("^[A-Za-z0-9_]+$", g))]]))
    error_message = "Kubespray groups are Ansible group names: letters, digits and '_' (e.g. kube_control_plane, kube_node, etcd, bastion)."
  }
  validation {
    condition     = alltrue([for m in var.machines : m.root_volume_size == null || try(m.root_volume_size > 0, false)])
    error_message = "root_volume_size must be null (boot from the flavor's disk) or a positive number of GB."
  }
}

variable "api_machine" {
  description = "The machine whose address is the Kubernetes API's (flatcar-kube: the first control plane machine): it gets the reserved floating IP (reserved_address), and the DNS records point at it. Null: neither."
  type        = string
  default     = null

  validation {
    # HCL evaluates both sides of ||: coalesce keeps contains() away from a null.
    condition     = var.api_machine == null || contains(keys(var.machines), coalesce(var.api_machine, "-"))
    error_message = "api_machine must be a key of machines."
  }
}

variable "network_name" {
  description = "Name of the existing network the machines attach to (Jetstream2: auto_allocated_network). Set this or network_id."
  type        = string
  default     = null
}

variable "network_id" {
  description = "ID of the existing network the machines attach to. Set this or network_name."
  type        = string
  default     = null

  validation {
    condition     = (var.network_id == null) != (var.network_name == null)
    error_message = "Set exactly one of network_name and network_id."
  }
}

variable "security_groups" {
  description = "Deprecated: use extra_security_groups. Further groups for every machine, besides the cluster's own group."
  type        = list(string)
  default     = null
}

variable "allowed_cidrs" {
  description = <<-EOT
    CIDRs (IPv4 or IPv6) the cluster's security group admits to SSH (22) and the Kubernetes API
    (6443) of every machine, e.g. ["203.0.113.7/32"] for one address; ["0.0.0.0/0"] admits
    everyone. No default on purpose: Ansible and kubectl run from outside the cluster, so say
    from where. [] admits only the cluster's own members (and what extra_security_groups allow).
  EOT
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Each entry of allowed_cidrs must be a CIDR such as 203.0.113.7/32, 10.0.0.0/8 or 2001:db8::/32."
  }
}

variable "open_http" {
  description = "Also admit HTTP (80) and HTTPS (443) from everyone (0.0.0.0/0 and ::/0), for an ingress controller."
  type        = bool
  default     = false
}

variable "http_machines" {
  description = "Names of machines (keys of machines) that admit HTTP (80) and HTTPS (443) from everyone, through a group of their own (<cluster>-http), e.g. the one machine whose ports serve JupyterHub."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.http_machines : length(trimspace(m)) > 0])
    error_message = "http_machines must not contain empty names."
  }
}

variable "reserved_address" {
  description = "Give api_machine a reserved floating IP (a flatcar_floating_ip of its own) instead of one that lives and dies with the server: the API address, and the DNS records, survive a replacement. Set it when the cluster is made: on a running cluster it replaces the first control plane machine."
  type        = bool
  default     = false
}

variable "dns_zone" {
  description = "A Designate zone of the project (name or ID; Jetstream2: \"<allocation>.projects.jetstream-cloud.org.\") for api_name and ingress_name; null for no DNS records."
  type        = string
  default     = null

  validation {
    condition     = var.dns_zone == null || var.api_machine != null
    error_message = "dns_zone needs api_machine: the machine whose address the records point at."
  }
}

variable "api_name" {
  description = "Full DNS name of the Kubernetes API in dns_zone (e.g. \"k8s.myalloc.projects.jetstream-cloud.org\"), an A record to api_machine's address; it goes into the API certificate too."
  type        = string
  default     = null
}

variable "ingress_name" {
  description = "Full DNS name where HTTP(S) is served (e.g. \"hub.myalloc.projects.jetstream-cloud.org\"), an A record to api_machine's address."
  type        = string
  default     = null

  validation {
    condition     = var.ingress_name == null || var.ingress_name != var.api_name
    error_message = "ingress_name and api_name must differ (one A record each)."
  }
}

variable "extra_security_groups" {
  description = "Names of further existing security groups attached to every machine besides the cluster's own group, e.g. [\"monitoring\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.extra_security_groups : length(trimspace(g)) > 0])
    error_message = "extra_security_groups must not contain empty names."
  }
}

variable "key_pair" {
  description = "Existing Nova key pair installed for user core; null when ssh_public_keys is enough."
  type        = string
  default     = null
}

variable "ssh_public_keys" {
  description = "SSH public keys (file contents) Ignition installs for user core on every machine."
  type        = list(string)
  default     = []
}

variable "floating_ip_pool" {
  description = "External network floating IPs come from (Jetstream2: public); needed when a pool has floating_ip = true."
  type        = string
  default     = null

  validation {
    condition     = var.floating_ip_pool != null || !anytrue([for m in var.machines : m.floating_ip])
    error_message = "A machine has floating_ip = true: set floating_ip_pool to the external network's name."
  }
}

variable "availability_zone" {
  description = "Availability zone of every machine; null lets Nova choose."
  type        = string
  default     = null
}

variable "user_data" {
  description = "Optional Ignition config (JSON, version 3.x, e.g. from butane) merged into every machine's config, which installs ssh_public_keys for core."
  type        = string
  default     = null

  validation {
    condition     = var.user_data == null || can(jsondecode(var.user_data).ignition.version)
    error_message = "user_data must be Ignition JSON with ignition.version (a cloud-config is not read by Flatcar); convert a Butane config with `butane`."
  }
}

variable "butane" {
  description = "Optional Butane config (variant flatcar, version 1.0.0), translated by provider::flatcar::butane and merged into every machine's Ignition like user_data; errors name the YAML line."
  type        = string
  default     = null
}

variable "ignition_write_only" {
  description = "Send each machine's Ignition through the write-only user_data_wo (Terraform/OpenTofu 1.11+): never stored in plan or state, for configs that hold secrets. Terraform cannot see changes to it then: raise ignition_version to rebuild the machines with the new config."
  type        = bool
  default     = false
}

variable "ignition_version" {
  description = "With ignition_write_only: a number to raise when the Ignition changed; every machine is then replaced."
  type        = number
  default     = 1
}

variable "metadata" {
  description = "Extra Nova metadata for every machine; kubespray_groups, ssh_user and cluster are set by the module."
  type        = map(string)
  default     = {}
}

variable "create_timeout" {
  description = "How long one machine may take to become ACTIVE, e.g. 30m."
  type        = string
  default     = "30m"
}

variable "machine_images" {
  description = <<-EOT
    The image each existing machine was built from, machine name => key of images: exactly the
    module's output machine_images of the previous apply (and the output releases says what
    those keys are). Such a machine keeps its image, and that image stays in Glance while a
    machine uses it; machines not listed boot image. `flatcar-kube up` passes both for you.
    Left empty, a new image replaces the old one even while machines run from it.
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key in values(var.machine_images) : contains(keys(var.images), key)])
    error_message = "Each value of machine_images must be a key of images: add the release of each image in use (the previous apply's output releases) to images."
  }
}

variable "reboot_strategy" {
  description = <<-EOT
    What a machine does after Flatcar's update_engine installed an update (/etc/flatcar/update.conf):
    "off" (default) waits for the cluster's reboot coordinator (kured, installed by
    `flatcar-kube up --deploy`), which drains and reboots one node at a time in the reboot window;
    "reboot" reboots at once, without a drain. Either way updates follow the channel of image.
  EOT
  type        = string
  default     = "off"

  validation {
    condition     = contains(["off", "reboot"], var.reboot_strategy)
    error_message = "reboot_strategy must be \"off\" (a coordinator such as kured reboots) or \"reboot\"."
  }
}
