"""Scripts around the training library: ship the catalog, draw the styles sheet, retrain on a
lent GPU machine (bundle, batch, gpu_retrain.sh)."""
