package main

// system8 runs seed system 8; nil until it is built.
var system8 runner
