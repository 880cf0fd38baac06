name = "x" # ERROR: Unexpected attribute
