name = "from-tfvars"
team = "from-tfvars"
