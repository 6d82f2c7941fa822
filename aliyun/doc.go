// Package aliyun is joinhintd's only door to Alibaba Cloud: it parses the
// configuration (including go-discover auto_join strings), reads the ECS
// instance metadata service, and implements daemon.Discoverer with
// DescribeInstances through github.com/aliyun/alibaba-cloud-sdk-go, classifying
// every failure as a daemon.Reason.
package aliyun
