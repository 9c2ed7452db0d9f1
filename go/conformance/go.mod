module envoyx.dev/conformance

go 1.27

require envoyx.dev/sdk v0.0.0

replace envoyx.dev/sdk => ../
