module envoyx.dev/test-modules/gohello

go 1.27
