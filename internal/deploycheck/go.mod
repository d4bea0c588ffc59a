module github.com/lakekit/lakekit/internal/deploycheck

go 1.26

replace github.com/lakekit/lakekit => ../..

require github.com/awslabs/goformation/v7 v7.14.9

require gopkg.in/yaml.v3 v3.0.1 // indirect
