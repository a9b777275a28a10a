"""Container runtimes behind cri.RuntimeService: one subpackage or module each."""
