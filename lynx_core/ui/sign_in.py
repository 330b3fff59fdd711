"""The start page (``app.py``): sign-in form, or links to the pages once signed in."""

import streamlit as st

from lynx_core.errors import AuthenticationError
from lynx_core.ui.components import NOTICE_KEY, PAGES, TOKEN_KEY, current_actor, services, sign_out


def render_signed_in(actor) -> None:
    st.title("Lynx")
    tenant = services().kernel.get_tenant(actor.tenant_id)
    st.markdown(f"Signed in as **{actor.display_name}** ({actor.email}) at **{tenant.name}**.")
    for path, label, icon in PAGES:
        st.page_link(path, label=label, icon=icon)
    if st.button("Sign out", key="sign_out_home"):
        sign_out()
        st.rerun()


def render() -> None:
    st.set_page_config(page_title="Lynx", page_icon="🐾", layout="wide")
    actor = current_actor()
    if actor is not None:
        render_signed_in(actor)
        return
    render_sign_in()


def render_sign_in() -> None:
    st.title("Sign in to Lynx")
    st.caption("Lynx answers from your tenant's data, drafts work for you, and acts only with a manager's approval.")

    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice)

    with st.form("sign_in", clear_on_submit=False):
        email = st.text_input("E-mail", key="sign_in_email")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")

    if submitted:
        try:
            token, actor = services().sessions.sign_in(email, password)
        except AuthenticationError as exc:
            st.error(str(exc))
        else:
            for key in [k for k in st.session_state.keys() if k not in (TOKEN_KEY,)]:
                del st.session_state[key]
            st.session_state[TOKEN_KEY] = token
            st.switch_page("pages/1_Ask_Lynx.py")

    if services().settings.environment in ("development", "test"):
        with st.expander("Demo accounts (embedded Kernel)"):
            st.markdown(
                "Every demo account uses the password `lynx-demo-2026`.\n\n"
                "| Tenant | E-mail | Role |\n|---|---|---|\n"
                "| Acme Manufacturing | ada.admin@acme.test | tenant admin |\n"
                "| Acme Manufacturing | felix.finance@acme.test | finance manager (approver) |\n"
                "| Acme Manufacturing | paula.procurement@acme.test | procurement officer |\n"
                "| Acme Manufacturing | victor.viewer@acme.test | viewer |\n"
                "| Borealis Retail | bella.admin@borealis.test | tenant admin |\n"
                "| Borealis Retail | bruno.finance@borealis.test | finance manager (approver) |\n"
                "| Borealis Retail | carla.controller@borealis.test | financial controller (second approver) |\n"
                "| Borealis Retail | pete.procurement@borealis.test | procurement officer |\n"
                "| Borealis Retail | vera.viewer@borealis.test | viewer |\n\n"
                "The README lists every account."
            )
