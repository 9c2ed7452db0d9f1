module envoyx.dev/examples

go 1.27

require github.com/envoyx/envoyx/go v0.0.0

replace github.com/envoyx/envoyx/go => ../
