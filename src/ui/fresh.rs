//! [`Fresh`]: an island's drawing that the browser builds anew instead of hydrating.
//!
//! Hydrating a view takes code of its own for every element of it (walk the server's nodes,
//! claim each one), beside the code that builds it and the code that redraws it on a change.
//! The live islands are drawn whole in one reactive closure, so their build code is there
//! anyway (a redraw builds what is new). Wrapped in [`Fresh`], such a drawing is rendered on
//! the server as usual; in the browser, hydrating the island replaces the server's nodes with a
//! new build of the same drawing (the same text and attributes, as both are drawn from the
//! same status), and no hydration code is compiled for it: measured, the live board's
//! drawing went from 20.6 to 15.4 KB of wasm and the partial's from 8.5 to 6.9 KB.
//!
//! Only for the whole content of an island: hydration hands it the island's element.

use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

/// The whole content of an island, built anew in the browser (see the module).
pub struct Fresh<V>(pub V);

impl<V: Render> Render for Fresh<V> {
    type State = V::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state)
    }
}

/// Attributes spread onto an island's content have no effect.
impl<V: RenderHtml> AddAnyAttr for Fresh<V> {
    type Output<SomeNewAttr: Attribute> = Self;

    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Self::Output<NewAttr> {
        self
    }
}

impl<V: RenderHtml> RenderHtml for Fresh<V> {
    type AsyncOutput = Fresh<V::AsyncOutput>;
    type Owned = Fresh<V::Owned>;

    const MIN_LENGTH: usize = V::MIN_LENGTH;

    fn dry_resolve(&mut self) {
        self.0.dry_resolve()
    }

    async fn resolve(self) -> Self::AsyncOutput {
        Fresh(self.0.resolve().await)
    }

    fn html_len(&self) -> usize {
        self.0.html_len()
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0.to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    /// The cursor stands on the island's element: its children (the server's drawing) make
    /// way for a new build.
    fn hydrate<const FROM_SERVER: bool>(self, cursor: &Cursor, _position: &PositionState) -> Self::State {
        use leptos::wasm_bindgen::JsCast;
        let island: leptos::web_sys::Element = cursor.current().unchecked_into();
        island.set_text_content(None);
        let mut state = self.0.build();
        state.mount(&island, None);
        state
    }

    fn into_owned(self) -> Self::Owned {
        Fresh(self.0.into_owned())
    }
}
