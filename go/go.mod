module github.com/envoyx/envoyx/go

go 1.27
