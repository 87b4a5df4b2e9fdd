module github.com/zerobuffer/zerobuffer-go/examples/unixgram

go 1.26.8

require (
	github.com/stretchr/testify v1.12.1
	github.com/zerobuffer/zerobuffer-go v0.0.0
	golang.org/x/sys v0.50.0
)

require (
	go.uber.org/goleak v1.3.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/zerobuffer/zerobuffer-go => ../..
