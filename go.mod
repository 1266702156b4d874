module swanling

go 1.26.0
