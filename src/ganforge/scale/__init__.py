"""Scale-out: tables larger than memory (streaming), several processes or GPUs (torchrun), Ray
clusters, and generation into folders of Parquet parts."""
