"""The model as it is served: the predictor MLflow logs and loads (``predictor``) and the file
MLflow runs to load it "from code" (``pyfunc_entry``)."""
