"""The Streamlit layer of ACAI Explorer: renders and keeps session state; all work is in `acai`."""
