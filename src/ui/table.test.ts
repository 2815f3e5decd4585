import {describe, expect, it} from 'vitest'
import {renderTable, type Column} from './table.js'

describe('renderTable', () => {
  const rows = [{name: 'work', token: 'valid until 19:19Z (in 60m)', quota: '62 % left, resets in 3h12m'}]
  type Row = (typeof rows)[number]
  const columns: Column<Row>[] = [
    {header: 'NAME', value: (r) => r.name},
    {header: 'TOKEN', value: (r) => r.token, flexible: true},
    {header: 'QUOTA', value: (r) => r.quota, optional: true},
  ]

  it('leaves an optional column out, rather than shrinking the others, when the table is too wide', () => {
    expect(renderTable(rows, columns, 80).split('\n')[1]).toBe(
      'work  valid until 19:19Z (in 60m)  62 % left, resets in 3h12m',
    )
    const narrow = renderTable(rows, columns, 40)
    expect(narrow).not.toContain('QUOTA')
    expect(narrow.split('\n')[1]).toBe('work  valid until 19:19Z (in 60m)')
    // Still too wide without it: the flexible columns shrink as before.
    expect(renderTable(rows, columns, 20).split('\n')[1]).toBe('work  valid until 1…')
  })
})
