import chalk from 'chalk'
import {escapeControls} from '../core/escape.js'

export interface Column<Row> {
  header: string
  value: (row: Row) => string
  color?: (row: Row, text: string) => string
  /** Shrunk first when the table is wider than the terminal. */
  flexible?: boolean
  /** Left out, rather than shrunk to an ellipsis, when the table is wider than the terminal. */
  optional?: boolean
}

const ELLIPSIS = '…'

export function truncate(text: string, width: number): string {
  if (width <= 0) return ''
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}${ELLIPSIS}`
}

/**
 * A plain-text table that fits `maxWidth` by shrinking the flexible columns; colour is applied after padding.
 * Cells show names and messages from files and upstreams: their control characters are escaped before measuring.
 */
export function renderTable<Row>(rows: Row[], all: Column<Row>[], maxWidth = 120): string {
  const gap = 2
  const measure = (columns: Column<Row>[]) => {
    const cells = rows.map((row) => columns.map((column) => escapeControls(column.value(row))))
    const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => r[i]!.length)))
    return {cells, widths, overflow: widths.reduce((a, b) => a + b, 0) + gap * (columns.length - 1) - maxWidth}
  }
  // Optional columns go first, from the right, until the table fits.
  let columns = all
  let measured = measure(columns)
  for (let i = all.length - 1; i >= 0 && measured.overflow > 0; i--) {
    if (!all[i]!.optional) continue
    columns = columns.filter((column) => column !== all[i])
    measured = measure(columns)
  }
  const {cells, widths} = measured
  let overflow = measured.overflow
  for (let i = columns.length - 1; i >= 0 && overflow > 0; i--) {
    if (!columns[i]!.flexible) continue
    const shrink = Math.min(overflow, widths[i]! - Math.max(6, columns[i]!.header.length))
    if (shrink > 0) {
      widths[i]! -= shrink
      overflow -= shrink
    }
  }
  const line = (texts: string[], colorize: (i: number, text: string) => string) =>
    texts
      .map((text, i) => colorize(i, truncate(text, widths[i]!).padEnd(i === texts.length - 1 ? 0 : widths[i]!)))
      .join(' '.repeat(gap))
      .trimEnd()
  const header = line(
    columns.map((c) => c.header),
    (_i, text) => chalk.bold(text),
  )
  const body = rows.map((row, r) =>
    line(cells[r]!, (i, text) => {
      const color = columns[i]!.color
      return color ? color(row, text) : text
    }),
  )
  return [header, ...body].join('\n')
}
