"""What every layer of glassnet shares and no user calls: argument checks
(``checks``), file access (``io``: atomic writes, regular files, ``.npy``
headers), the element-wise thread pool (``threads``), the allocator setting
(``malloc``), name registries (``registry``) and the available memory
(``memory``). It imports nothing of glassnet but ``backend`` and ``errors``."""
