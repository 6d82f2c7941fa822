// Package daemon holds joinhintd's core: the Peer and Snapshot types, the
// refresh loop that keeps a Snapshot current through a Discoverer, and the
// local HTTP API that serves it.
//
// daemon never imports the Alibaba Cloud SDK; the aliyun package implements
// Discoverer and classifies its errors with the Reason type defined here.
package daemon
