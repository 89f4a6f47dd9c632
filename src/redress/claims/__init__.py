"""Claims of one case: the lifecycle, decisions and deadlines (pure rules; storage lives in ``store``)."""
