# An image created by this provider is imported by its Glance ID; the release it came from
# is read back from the image's flatcar_* properties.
# (OpenTofu: the same with `tofu import`.)
terraform import flatcar_image.stable 1bea47ed-f6a9-463b-b423-14b9cca9ad27
