package main

// system5 runs seed system 5; nil until it is built.
var system5 runner
