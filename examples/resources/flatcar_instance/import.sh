# Import a server by its Nova ID. Clouds that hide user_data from non-admins cannot give it
# back: add `lifecycle { ignore_changes = [user_data] }` to keep the imported server.
# (OpenTofu: the same with `tofu import`.)
terraform import flatcar_instance.node 9f1c1f3e-6a3b-4d59-8a5a-1f2d6a0c7b11
