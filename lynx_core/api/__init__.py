"""HTTP routes served next to the Streamlit pages by `app.py`'s `st.App`."""
