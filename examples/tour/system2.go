package main

// system2 runs seed system 2; nil until it is built.
var system2 runner
