# Import a security group by its Neutron ID. From then on its rules are exactly the
# configuration's `rule` blocks: write down every rule the group has before the next apply
# (`openstack security group rule list <id>`).
# (OpenTofu: the same with `tofu import`.)
terraform import flatcar_security_group.cluster 4c8f6b4e-0d1a-4b8e-9d7e-2f5c3a1b6e90
