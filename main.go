// Command swanling is an IKEv2 (RFC 7296) gateway with a userspace ESP
// (RFC 4303) data plane and opportunistic encryption from DNS (RFC 4322).
package main

func main() {}
