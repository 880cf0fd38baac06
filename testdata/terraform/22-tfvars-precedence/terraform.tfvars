image_name = "from-tfvars"
env        = "staging"
