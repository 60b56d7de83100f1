# Import a recordset as ZONE_ID/RECORDSET_ID (`openstack recordset list ZONE` shows both).
# (OpenTofu: the same with `tofu import`.)
terraform import flatcar_dns_record.hub 0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e/9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4
