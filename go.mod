module github.com/keycaphq/keycap

go 1.26.8

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)
