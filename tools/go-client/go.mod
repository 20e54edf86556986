module oisp.local/goclient

go 1.19
