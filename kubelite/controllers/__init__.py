"""kubelite's controller manager: the control loops of kube-controller-manager, each
written as informers -> work queue -> sync(key) (see README.md), run under one Lease."""
