terraform {
  # Cross-variable validation needs 1.9.
  required_version = ">= 1.9"

  required_providers {
    flatcar = {
      source  = "registry.terraform.io/flatcar-kube/flatcar"
      version = ">= 0.1.0"
    }
  }
}
