"""archsearch: the evolutionary search engine (EvaNet, AssembleNet, TVN). Pure Python + PyTorch."""
