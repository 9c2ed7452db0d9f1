module envoyx.dev/sdk

go 1.27
