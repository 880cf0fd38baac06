team = "from-auto-tfvars"
