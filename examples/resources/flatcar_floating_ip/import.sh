# Import a floating IP by its Neutron ID (`openstack floating ip list` shows it); the address
# stays. (OpenTofu: the same with `tofu import`.)
terraform import flatcar_floating_ip.api 2f6a8c1e-5b3d-4e7f-9a0b-1c2d3e4f5a6b
