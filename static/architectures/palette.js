// The palette: one button per node type of the family (from the schema), plus input streams.
import {h} from "../common/dom.js";

export function renderPalette(root, family, {onAddNode, onAddInput}) {
  root.replaceChildren();
  if (!family) return;
  const types = [...family.node_types].sort((a, b) => Number(a.is_head) - Number(b.is_head) || a.name.localeCompare(b.name));
  for (const type of types) {
    root.append(h("button", {class: "palette-item", title: type.doc, dataset: {type: type.name}, text: `+ ${type.name}`,
                             onclick: () => onAddNode(type)}));
  }
  for (const modality of ["rgb", "flow", "segmentation"]) {
    root.append(h("button", {class: "palette-item input", dataset: {input: modality}, text: `+ ${modality} input`,
                             onclick: () => onAddInput(modality)}));
  }
}
